"""The sandbox's dispatcher: unknown paths answer 404 JSON, not a 500."""

from __future__ import annotations

import httpx


def test_an_unknown_path_is_a_json_404(sandbox):
    for path in ("/nowhere", "/", "/nowhere/deeper?x=1"):
        response = httpx.get(f"{sandbox.base_url}{path}")
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert "no emulator" in response.json()["error"]
    response = httpx.post(f"{sandbox.base_url}/nowhere", json={"a": 1})
    assert response.status_code == 404
