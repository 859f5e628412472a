"""The OpenAPI document describes request bodies as the server reads them."""

from __future__ import annotations


def test_inspection_answers_are_an_object_of_booleans(settings) -> None:
    from api.app import create_app

    schema = create_app(settings).openapi_schema.to_schema()
    answers = schema["components"]["schemas"]["ResultRequest"]["properties"]["answers"]
    assert answers["type"] == "object" and answers["additionalProperties"] == {"type": "boolean"}
    assert answers["minProperties"] == 1 and answers["maxProperties"] == 50
    assert "items" not in answers and "minLength" not in answers
    assert "checklist" in answers["description"]
