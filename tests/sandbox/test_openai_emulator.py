"""The OpenAI emulator over raw HTTP: auth, validation, strict schemas, structured output that
validates against the requested schema, the Responses API and the model list."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from sandbox.openai_listing import translate

PROMPT = (
    "Japanese product record (JSON):\n"
    '{"sku": "C-9", "title_ja": "Nikon F3 フィルムカメラ 中古", "brand": "Nikon"}'
)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title", "tags", "category"],
    "properties": {
        "title": {"type": "string", "maxLength": 20},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
        "category": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "name"],
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
        },
    },
}


@pytest.fixture
def api(clean_sandbox, settings) -> httpx.Client:
    key = settings.openai_api_key.get_secret_value()
    with httpx.Client(
        base_url=f"{clean_sandbox.base_url}/openai/v1", headers={"Authorization": f"Bearer {key}"}
    ) as client:
        yield client


def _chat(settings, schema: dict[str, Any] | None = SCHEMA, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": settings.openai_model,
        "messages": [
            {"role": "system", "content": "Write listings."},
            {"role": "user", "content": PROMPT},
        ],
    }
    if schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "listing", "strict": True, "schema": schema},
        }
    body.update(extra)
    return body


def test_wrong_key_gets_openai_error_shape(clean_sandbox, settings):
    response = httpx.post(
        f"{clean_sandbox.base_url}/openai/v1/chat/completions",
        json=_chat(settings),
        headers={"Authorization": "Bearer sk-wrong-0123456789"},
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key" and error["type"] == "invalid_request_error"
    assert "sk-*****6789" in error["message"] and error["param"] is None


def test_structured_output_validates_and_respects_max_length(api, settings, clean_sandbox):
    response = api.post("/chat/completions", json=_chat(settings))
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    content = json.loads(body["choices"][0]["message"]["content"])
    Draft202012Validator(SCHEMA).validate(content)
    assert len(content["title"]) <= 20 and content["title"].startswith("Nikon F3")
    assert len(content["tags"]) >= 2
    assert content["category"] == {"id": "15230", "name": "Film Cameras"}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert body["model"] == settings.openai_model and body["choices"][0]["finish_reason"] == "stop"
    assert clean_sandbox.ctx.ledger.count("openai", "completion", "C-9") == 1


def test_same_request_gives_same_content(api, settings):
    first = api.post("/chat/completions", json=_chat(settings)).json()
    second = api.post("/chat/completions", json=_chat(settings)).json()
    assert first["id"] != second["id"]
    assert first["choices"][0]["message"] == second["choices"][0]["message"]


def test_non_strict_schema_is_refused_in_strict_mode(api, settings):
    loose = {"type": "object", "properties": {"title": {"type": "string"}}}
    response = api.post("/chat/completions", json=_chat(settings, loose))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_json_schema" and "additionalProperties" in error["message"]
    missing = {**loose, "additionalProperties": False, "required": []}
    refused = api.post("/chat/completions", json=_chat(settings, missing)).json()["error"]
    assert "Missing 'title'" in refused["message"]


def test_invalid_requests_and_unknown_models(api, settings):
    no_messages = api.post("/chat/completions", json={"model": settings.openai_model})
    assert no_messages.status_code == 400
    assert no_messages.json()["error"]["type"] == "invalid_request_error"
    unknown = api.post("/chat/completions", json=_chat(settings, model="gpt-nope"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "model_not_found"
    garbage = api.post(
        "/chat/completions", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert garbage.status_code == 400


def test_plain_chat_answers_with_the_english_title(api, settings):
    response = api.post("/chat/completions", json=_chat(settings, None))
    answer = response.json()["choices"][0]["message"]["content"]
    assert answer == "Nikon F3 Film Camera Used from Japan"


def test_responses_api_structured_output(api, settings):
    response = api.post(
        "/responses",
        json={
            "model": settings.openai_model,
            "instructions": "Write listings.",
            "input": PROMPT,
            "text": {
                "format": {
                    "type": "json_schema",
                    "name": "listing",
                    "strict": True,
                    "schema": SCHEMA,
                }
            },
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "response" and body["status"] == "completed"
    text = body["output"][0]["content"][0]["text"]
    Draft202012Validator(SCHEMA).validate(json.loads(text))
    assert body["usage"]["total_tokens"] > 0


def test_models_list_and_quota_control(api, settings, clean_sandbox):
    models = api.get("/models").json()
    assert models["object"] == "list"
    assert settings.openai_model in [m["id"] for m in models["data"]]
    assert api.get(f"/models/{settings.openai_model}").json()["id"] == settings.openai_model
    assert api.get("/models/gpt-nope").status_code == 404
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/openai/quota", json={"exhausted": True})
    refused = api.post("/chat/completions", json=_chat(settings))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "insufficient_quota"
    httpx.post(f"{clean_sandbox.base_url}/_sandbox/reset")
    assert api.post("/chat/completions", json=_chat(settings)).status_code == 200


def test_glossary_translation():
    assert translate("腕時計と時計") == ["Wristwatch", "Watch"]
    assert translate("未使用の着物と陶器") == ["Unused", "Kimono", "Pottery"]
    assert translate("中古カメラ") == ["Used", "Camera"]
    assert translate("no japanese") == []


def test_unknown_routes_answer_in_openais_shape(api):
    response = api.post("/embeddings-unknown", json={})
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert response.json()["error"]["code"] is None
    assert response.json()["error"]["message"] == "Invalid URL (POST /v1/embeddings-unknown)"


def test_usage_follows_the_length_of_the_text(api, settings):
    short = api.post("/chat/completions", json=_chat(settings, schema=None)).json()
    body = {
        "model": settings.openai_model,
        "messages": [{"role": "user", "content": PROMPT + " " + "vintage camera " * 200}],
    }
    long = api.post("/chat/completions", json=body).json()
    assert long["usage"]["prompt_tokens"] > short["usage"]["prompt_tokens"] + 300
    assert short["usage"]["total_tokens"] == (
        short["usage"]["prompt_tokens"] + short["usage"]["completion_tokens"]
    )
