"""docker-compose.yml validates against the Compose Specification schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).parent.parent


def test_compose_file_matches_the_compose_specification() -> None:
    schema = json.loads((ROOT / "sandbox/specs/compose/compose-spec.json").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)
    services = compose["services"]
    for name in (
        "postgres",
        "redis",
        "temporal",
        "temporal-ui",
        "minio",
        "api",
        "worker",
        "sandbox",
    ):
        assert name in services, name
        assert "healthcheck" in services[name] or name == "migrate", name
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_dockerfile_runs_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") >= 2, "multi-stage"
    assert "\nUSER worlddoor" in dockerfile
