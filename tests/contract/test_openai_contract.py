"""What the ListingWriter sends and what the OpenAI emulator answers, checked against OpenAI's
own OpenAPI file (sandbox/specs/openai/openapi.json)."""

from __future__ import annotations

import copy

import httpx
import pytest

from adapters.openai import LISTING_SCHEMA, JapaneseListingSource, ListingWriter
from sandbox.oas import SpecViolation, load_spec
from sandbox.openai import strict_schema_problem

SOURCE = JapaneseListingSource(sku="CT-1", title_ja="着物 正絹 未使用", brand="")


@pytest.fixture
def api(clean_sandbox, settings) -> httpx.Client:
    key = settings.openai_api_key.get_secret_value()
    with httpx.Client(
        base_url=f"{clean_sandbox.base_url}/openai/v1", headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


def test_listing_request_matches_the_spec_and_strict_rules(settings):
    body = ListingWriter(settings).request_body(SOURCE)
    load_spec("openai").validate_request("POST", "/chat/completions", body)
    assert strict_schema_problem(LISTING_SCHEMA) is None
    broken = copy.deepcopy(body)
    broken["response_format"]["type"] = "xml"
    with pytest.raises(SpecViolation):
        load_spec("openai").validate_request("POST", "/chat/completions", broken)


def test_chat_completion_answer_matches_the_spec(api, settings):
    response = api.post("/chat/completions", json=ListingWriter(settings).request_body(SOURCE))
    assert response.status_code == 200
    spec = load_spec("openai")
    spec.validate_response("POST", "/chat/completions", 200, response.json())
    # OpenAI's documented sample replies (x-oaiMeta): same keys, same types.
    assert spec.check_examples("POST", "/chat/completions", 200, response.json()) >= 20


def test_responses_answer_matches_the_spec(api, settings):
    body = {
        "model": settings.openai_model,
        "input": [{"role": "user", "content": 'Record: {"title_ja": "陶器 花瓶"}'}],
        "text": {
            "format": {
                "type": "json_schema",
                "name": "listing",
                "strict": True,
                "schema": LISTING_SCHEMA,
            }
        },
    }
    load_spec("openai").validate_request("POST", "/responses", body)
    response = api.post("/responses", json=body)
    assert response.status_code == 200, response.text
    load_spec("openai").validate_response("POST", "/responses", 200, response.json())
    assert load_spec("openai").check_examples("POST", "/responses", 200, response.json()) >= 15


def test_models_and_errors_match_the_spec(api, clean_sandbox, settings):
    spec = load_spec("openai")
    spec.validate_response("GET", "/models", 200, api.get("/models").json())
    unauthorized = httpx.post(f"{clean_sandbox.base_url}/openai/v1/chat/completions", json={})
    spec._validate("components/schemas/ErrorResponse", unauthorized.json())
    invalid = api.post("/chat/completions", json={"model": settings.openai_model})
    spec._validate("components/schemas/ErrorResponse", invalid.json())
    httpx.post(
        f"{clean_sandbox.base_url}/_sandbox/faults",
        json={"openai": {"rate_limit_rate": 1.0, "times": 1}},
    )
    limited = api.post("/chat/completions", json=ListingWriter(settings).request_body(SOURCE))
    assert limited.status_code == 429
    spec._validate("components/schemas/ErrorResponse", limited.json())
