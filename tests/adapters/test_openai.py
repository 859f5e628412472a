"""ListingWriter against the OpenAI emulator over real HTTP: structured output, title limit,
provenance, and classification of the SDK's errors under injected faults."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters.errors import (
    AuthenticationError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from adapters.openai import (
    JAPANESE_SCRIPT,
    PROMPT_VERSION,
    SCHEMA_VERSION,
    TITLE_LIMIT,
    JapaneseListingSource,
    ListingWriter,
    _Category,
    _Output,
    _Spec,
    japanese_left,
    trim_title,
)

WATCH = JapaneseListingSource(
    sku="WD-1001",
    title_ja="SEIKO 腕時計 SBDC089 自動巻き 未使用 箱付き",
    description_ja="セイコーのダイバーズ腕時計です。",
    brand="SEIKO",
    condition="NEW",
    condition_notes="",
    category_hint="腕時計",
    price_jpy=85000,
)


@pytest.fixture
def writer(settings) -> ListingWriter:
    return ListingWriter(settings)


def _fault(sandbox, **rule: Any) -> None:
    response = httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"openai": rule})
    assert response.status_code == 200, response.text


def test_write_listing_produces_english_copy_with_provenance(clean_sandbox, writer, settings):
    copy = writer.write_listing(WATCH)
    assert copy.title.startswith("SEIKO SBDC089 Wristwatch")
    assert "Unused" in copy.title and len(copy.title) <= TITLE_LIMIT and not copy.title_trimmed
    assert copy.description_html.startswith("<p>")
    assert copy.item_specifics["Brand"] == ["SEIKO"]
    assert copy.item_specifics["Model"] == ["SBDC089"]
    assert (copy.category_id, copy.category_name) == ("31387", "Wristwatches")
    assert copy.prompt_version == PROMPT_VERSION and copy.schema_version == SCHEMA_VERSION
    assert copy.model == settings.openai_model
    assert copy.response_id.startswith("chatcmpl-")
    assert clean_sandbox.ctx.ledger.count("openai", "completion", "WD-1001") == 1


def test_other_goods_are_translated(clean_sandbox, writer):
    kimono = writer.write_listing(
        WATCH.model_copy(update={"sku": "K1", "title_ja": "正絹 着物 中古", "brand": ""})
    )
    assert "Kimono" in kimono.title and "Used" in kimono.title
    assert kimono.item_specifics["Brand"] == ["Unbranded"]
    pottery = writer.write_listing(
        WATCH.model_copy(update={"sku": "P1", "title_ja": "有田焼 陶器 花瓶", "brand": ""})
    )
    assert "Pottery" in pottery.title and "Vase" in pottery.title


def test_long_title_is_trimmed_at_a_word_boundary(clean_sandbox, writer):
    long_source = WATCH.model_copy(
        update={
            "title_ja": "SEIKO GRAND-SEIKO-SPRING-DRIVE SBGA211 腕時計 自動巻き 限定 ヴィンテージ "
            "アンティーク 付属品 箱付き 未使用 美品",
        }
    )
    copy = writer.write_listing(long_source)
    assert copy.title_trimmed and len(copy.title) <= TITLE_LIMIT
    assert not copy.title.endswith(" ")
    words = copy.title.split(" ")
    assert words[:3] == ["SEIKO", "GRAND-SEIKO-SPRING-DRIVE", "SBGA211"]


def test_trim_title_rules():
    assert trim_title("  Short   title ") == "Short title"
    text = "word " * 30
    trimmed = trim_title(text)
    assert len(trimmed) <= 80 and trimmed.endswith("word") and set(trimmed.split()) == {"word"}
    assert trim_title("x" * 100) == "x" * 80  # one huge token: hard cut
    assert trim_title("a" * 79 + " bc") == "a" * 79


def test_empty_title_is_refused(clean_sandbox, writer):
    with pytest.raises(ValueError, match="title_ja"):
        writer.write_listing(WATCH.model_copy(update={"title_ja": "  "}))


@pytest.mark.parametrize(
    ("status", "expected", "retryable"),
    [
        (500, RetryableError, True),
        (503, RetryableError, True),
        (400, PermanentError, False),
        (401, AuthenticationError, False),
        (403, AuthenticationError, False),
    ],
)
def test_injected_errors_are_classified(clean_sandbox, writer, status, expected, retryable):
    _fault(clean_sandbox, error_rate=1.0, error_status=status, times=1)
    with pytest.raises(expected) as info:
        writer.write_listing(WATCH)
    assert info.value.status == status and info.value.retryable is retryable
    assert info.value.message == "Injected fault"
    assert writer.write_listing(WATCH).title  # one-shot fault


def test_rate_limit_is_retryable_with_retry_after(clean_sandbox, writer):
    _fault(clean_sandbox, rate_limit_rate=1.0, retry_after=3, times=1)
    with pytest.raises(RateLimitedError) as info:
        writer.write_listing(WATCH)
    assert info.value.retry_after == 3.0 and info.value.code == "rate_limit_exceeded"


def test_insufficient_quota_is_permanent(clean_sandbox, writer):
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/openai/quota", json={"exhausted": True})
    with pytest.raises(PermanentError) as info:
        writer.write_listing(WATCH)
    assert info.value.status == 429 and info.value.code == "insufficient_quota"
    assert not info.value.retryable and "quota" in info.value.message


def test_wrong_key_and_unknown_model(clean_sandbox, settings):
    wrong = settings.model_copy(update={"openai_api_key": SecretStr("sk-wrong-key-123456")})
    with pytest.raises(AuthenticationError) as info:
        ListingWriter(wrong).write_listing(WATCH)
    assert "Incorrect API key" in info.value.message
    unknown = settings.model_copy(update={"openai_model": "gpt-nope"})
    with pytest.raises(NotFoundError) as missing:
        ListingWriter(unknown).write_listing(WATCH)
    assert missing.value.code == "model_not_found"


def test_timeout_and_lost_response_are_retryable(clean_sandbox, settings, writer):
    _fault(clean_sandbox, latency_ms=1500, times=1)
    with pytest.raises(RetryableError, match="Timeout"):
        ListingWriter(settings, timeout=0.3).write_listing(WATCH)
    _fault(clean_sandbox, lost_response_rate=1.0, times=1)
    with pytest.raises(RetryableError):
        writer.write_listing(WATCH)


def test_japanese_brands_and_notes_come_out_in_english(clean_sandbox, writer):
    teapot = writer.write_listing(
        WATCH.model_copy(
            update={
                "sku": "T1",
                "title_ja": "岩鋳 南部鉄器 急須 0.6L 未使用",
                "brand": "岩鋳 (Iwachu)",
                "condition_notes": "未使用・箱に小さな傷あり",
            }
        )
    )
    values = [v for vs in teapot.item_specifics.values() for v in vs]
    texts = [teapot.title, teapot.description_html, *teapot.item_specifics, *values]
    assert not [t for t in texts if JAPANESE_SCRIPT.search(t)]
    assert teapot.title.startswith("Iwachu 0.6L Teapot")
    assert teapot.item_specifics["Brand"] == ["Iwachu"]
    assert "small scratches on the box" in teapot.description_html


def test_a_draft_with_japanese_left_in_it_is_caught():
    draft = _Output(
        title="Iwachu Teapot",
        description_html="<p>Notes: 未使用</p>",
        item_specifics=[_Spec(name="Brand", values=["Iwachu"])],
        category=_Category(id="37932", name="Tea Ceremony"),
    )
    assert japanese_left(draft) == "未使用"
    assert japanese_left(draft.model_copy(update={"description_html": "<p>Unused</p>"})) == ""


def test_a_reply_with_japanese_left_in_it_is_refused_for_a_retry(settings):
    """The guard on the model's reply itself (the real model may answer like this, the emulator
    never does): the official SDK parses the reply, the writer refuses it as retryable, so the
    activity asks for another draft and nothing half-translated reaches a listing."""
    import json

    from openai import OpenAI

    draft = {
        "title": "Iwachu Teapot 0.6L",
        "description_html": "<p>Condition: 未使用</p>",
        "item_specifics": [{"name": "Brand", "values": ["Iwachu"]}],
        "category": {"id": "37932", "name": "Tea Ceremony"},
    }

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "id": "chatcmpl-ja",
                "object": "chat.completion",
                "created": 0,
                "model": settings.openai_model,
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": json.dumps(draft)},
                    }
                ],
            },
        )

    client = OpenAI(
        api_key="sk-test",
        base_url="http://openai.invalid/v1",
        max_retries=0,
        http_client=httpx.Client(transport=httpx.MockTransport(reply)),
    )
    with pytest.raises(RetryableError, match="left Japanese in the English copy: 未使用"):
        ListingWriter(settings, client).write_listing(WATCH)
