"""English eBay listing copy from a Japanese product record, with the official `openai` SDK
and a strict JSON-schema structured output.

Generation is neither idempotent nor deterministic, so every result carries the model, the
response id and the prompt/schema versions it was produced with. The SDK's own retries are off:
Temporal owns retries, and the errors below say which failures are worth one.

Titles: eBay allows 80 characters. Strict structured outputs cannot express `maxLength`, so the
limit is in the prompt and the field description, and a longer title is trimmed here at a word
boundary (deterministic and keeps the leading, most important words) rather than paying for and
waiting on a new, different generation. `ListingCopy.title_trimmed` records that it happened.
"""

from __future__ import annotations

import json
import re
from typing import Any

import openai
from openai import OpenAI
from pydantic import BaseModel, Field, ValidationError

from adapters.errors import (
    AdapterError,
    AuthenticationError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from config import Settings

SERVICE = "openai"
PROMPT_VERSION = "listing-copy/2026-11-28.1"
SCHEMA_VERSION = "listing-copy-schema/1"
TITLE_LIMIT = 80
DEFAULT_TIMEOUT = 60.0

LISTING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "description_html", "item_specifics", "category"],
    "properties": {
        "title": {
            "type": "string",
            "description": "eBay title in English, at most 80 characters, no ALL CAPS, no emoji",
        },
        "description_html": {
            "type": "string",
            "description": "Listing description as simple HTML (<p>, <ul>, <li>, <strong>)",
        },
        "item_specifics": {
            "type": "array",
            "description": "eBay item specifics (Brand, Model, Type, Country of Origin, ...)",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "values"],
                "properties": {
                    "name": {"type": "string"},
                    "values": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "category": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "string", "description": "eBay US leaf category id"},
                "name": {"type": "string"},
            },
        },
    },
}

SYSTEM_PROMPT = (
    "You write eBay.com listings for The World Door, a shop exporting goods from Japan. "
    "Translate and adapt the Japanese product record into natural English for US buyers. "
    "Never invent facts: keep brand names and model numbers exactly as given, state the "
    "condition honestly including every flaw in the condition notes. Title: at most 80 "
    "characters, most important words first (brand, model, item type, key feature). "
    "Description: short HTML with an overview paragraph, a bullet list of details and a "
    "condition paragraph. Item specifics: eBay aspect names with one or more values. "
    "Category: the best eBay US leaf category id and its name."
)


class JapaneseListingSource(BaseModel):
    sku: str
    title_ja: str
    description_ja: str = ""
    brand: str = ""
    condition: str = ""
    condition_notes: str = ""
    category_hint: str = ""
    price_jpy: int | None = None
    item_specifics_hint: dict[str, Any] = Field(default_factory=dict)


class ListingCopy(BaseModel):
    title: str
    description_html: str
    item_specifics: dict[str, list[str]]
    category_id: str
    category_name: str
    prompt_version: str
    schema_version: str
    model: str
    response_id: str
    title_trimmed: bool = False


class _Spec(BaseModel):
    name: str
    values: list[str]


class _Category(BaseModel):
    id: str
    name: str


class _Output(BaseModel):
    """What the schema above describes, for checking the model's answer."""

    title: str
    description_html: str
    item_specifics: list[_Spec]
    category: _Category


def trim_title(title: str, limit: int = TITLE_LIMIT) -> str:
    """Whitespace collapsed; cut at the last word boundary within `limit` characters."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit + 1].rsplit(" ", 1)[0] if " " in title[: limit + 1] else title[:limit]
    return cut[:limit].rstrip(" ,;:-/&")


def user_prompt(source: JapaneseListingSource) -> str:
    record = {
        "sku": source.sku,
        "title_ja": source.title_ja,
        "description_ja": source.description_ja,
        "brand": source.brand,
        "condition": source.condition,
        "condition_notes": source.condition_notes,
        "category_hint": source.category_hint,
        "price_jpy": source.price_jpy,
        "item_specifics_hint": source.item_specifics_hint,
    }
    return "Japanese product record (JSON):\n" + json.dumps(record, ensure_ascii=False, indent=1)


class ListingWriter:
    def __init__(
        self, settings: Settings, client: OpenAI | None = None, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.settings = settings
        self.model = settings.openai_model
        self.client = client or OpenAI(
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_api_url,
            max_retries=0,
            timeout=timeout,
        )

    def request_body(self, source: JapaneseListingSource) -> dict[str, Any]:
        """The chat.completions arguments (also what the contract test checks)."""
        return {
            "model": self.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": user_prompt(source)},
            ],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "listing_copy", "strict": True, "schema": LISTING_SCHEMA},
            },
            "temperature": 0.2,
        }

    def check_credentials(self) -> None:
        """For `worlddoor doctor`: the key is accepted and the configured model exists."""
        try:
            self.client.models.retrieve(self.settings.openai_model)
        except openai.APIError as exc:
            raise classify_openai_error(exc) from exc

    def write_listing(self, source: JapaneseListingSource) -> ListingCopy:
        if not source.title_ja.strip():
            raise ValueError(f"{source.sku}: title_ja is empty")
        try:
            completion = self.client.chat.completions.create(**self.request_body(source))
        except openai.APIError as exc:
            raise classify_openai_error(exc) from exc
        if not completion.choices:
            raise RetryableError(SERVICE, f"response {completion.id} has no choices")
        choice = completion.choices[0]
        if choice.message.refusal:
            raise PermanentError(SERVICE, f"model refused: {choice.message.refusal}")
        if choice.finish_reason == "length":
            raise RetryableError(SERVICE, f"response {completion.id} cut off at the token limit")
        try:
            output = _Output.model_validate_json(choice.message.content or "")
        except ValidationError as exc:
            raise RetryableError(
                SERVICE, f"response {completion.id} breaks the schema: {exc}"
            ) from exc
        leftover = japanese_left(output)
        if leftover:
            # Another draft usually comes out right; the listing is never published with it.
            raise RetryableError(
                SERVICE, f"response {completion.id} left Japanese in the English copy: {leftover}"
            )
        title = trim_title(output.title)
        specifics: dict[str, list[str]] = {}
        for spec in output.item_specifics:
            values = [v.strip() for v in spec.values if v.strip()]
            if spec.name.strip() and values:
                specifics.setdefault(spec.name.strip(), []).extend(values)
        return ListingCopy(
            title=title,
            description_html=output.description_html,
            item_specifics=specifics,
            category_id=output.category.id,
            category_name=output.category.name,
            prompt_version=PROMPT_VERSION,
            schema_version=SCHEMA_VERSION,
            model=completion.model,
            response_id=completion.id,
            title_trimmed=title != " ".join(output.title.split()),
        )


JAPANESE_SCRIPT = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff01-\uff9f]+")


def japanese_left(output: _Output) -> str:
    """The first run of Japanese script (kana, kanji, full-width forms) in the English copy."""
    texts = [output.title, output.description_html, output.category.name]
    texts += [s.name for s in output.item_specifics]
    texts += [v for s in output.item_specifics for v in s.values]
    found = next((m for t in texts if (m := JAPANESE_SCRIPT.search(t))), None)
    return found.group(0) if found else ""


def _retry_after(exc: openai.APIStatusError) -> float | None:
    headers = exc.response.headers
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        if headers.get("retry-after"):
            return float(headers["retry-after"])
    except ValueError:
        return None
    return None


def classify_openai_error(exc: openai.APIError) -> AdapterError:
    body = exc.body if isinstance(exc.body, dict) else {}
    message = str(body.get("message") or exc.message)  # the vendor's words, not the SDK's prefix
    code = getattr(exc, "code", None)
    if isinstance(exc, (openai.APITimeoutError, openai.APIConnectionError)):
        return RetryableError(SERVICE, f"{type(exc).__name__}: {message}")
    if not isinstance(exc, openai.APIStatusError):
        return PermanentError(SERVICE, message, code=code)  # e.g. an unparseable response
    status = exc.status_code
    kwargs: dict[str, Any] = {"status": status, "code": code, "details": exc.body}
    if isinstance(exc, openai.RateLimitError):
        if code == "insufficient_quota":  # billing, not load: waiting does not help
            return PermanentError(SERVICE, message, **kwargs)
        return RateLimitedError(SERVICE, message, retry_after=_retry_after(exc), **kwargs)
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return AuthenticationError(SERVICE, message, **kwargs)
    if isinstance(exc, openai.NotFoundError):
        return NotFoundError(SERVICE, message, **kwargs)
    if isinstance(exc, openai.InternalServerError) or status >= 500 or status in (408, 409):
        return RetryableError(SERVICE, message, retry_after=_retry_after(exc), **kwargs)
    return PermanentError(SERVICE, message, **kwargs)
