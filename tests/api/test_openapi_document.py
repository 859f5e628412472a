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


def test_a_body_the_handler_can_do_without_is_not_required(settings) -> None:
    from api.app import create_app

    paths = create_app(settings).openapi_schema.to_schema()["paths"]
    for action in ("pause", "unpause"):  # the note is optional
        body = paths[f"/api/operations/schedules/{{schedule_id}}/{action}"]["post"]["requestBody"]
        assert body["required"] is False
    assert paths["/api/products"]["post"]["requestBody"]["required"] is True
